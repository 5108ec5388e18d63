"""Role assignments of Keystone users and groups, for the openstack provider: a user's or
group's ``roles`` (converged by :mod:`cool.clouds.openstack.keystone`) and Heat's
OS::Keystone::UserRoleAssignment and GroupRoleAssignment."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from typing import Any
from urllib.parse import quote

from keystoneauth1 import exceptions as ks_exceptions
from openstack import exceptions as os_exceptions

from cool.clouds.base import Found, Observed, ProviderError, StepContext
from cool.clouds.openstack.cloud import Cloud, Handler, given, own
from cool.clouds.openstack.keystone_marks import find_domain_id, find_project_id

Grant = tuple[str, str, str]  # (role id, "project"|"domain", scope id)
_INHERITED = "OS-INHERIT:inherited_to"  # a scope's key when it is inherited, not direct
_CLOUD_ERRORS = (os_exceptions.SDKException, ks_exceptions.ClientException)


def _entries(roles: Any) -> list[Mapping[str, Any]]:
    """The ``roles`` property as a list of maps that each name a role: a value resolved
    at run time (``get_attr``) has not been through the schema."""
    if roles is None:
        return []
    if not isinstance(roles, list | tuple):
        raise ProviderError(f"roles must be a list of role assignments, not {type(roles).__name__}")
    for index, entry in enumerate(roles):
        if not isinstance(entry, Mapping):
            raise ProviderError(f"roles[{index}] must be a map (role, project or domain)")
        if not given(entry.get("role")):
            raise ProviderError(f"roles[{index}] names no role")
    return list(roles)


def wanted_roles(cloud: Cloud, roles: Any) -> set[Grant]:
    """The template's role assignments as ``(role id, "project"|"domain", scope id)``."""
    wanted = set()
    for index, assignment in enumerate(_entries(roles)):
        role = str(cloud._find(cloud.conn.identity.find_role, "role", assignment["role"]).id)
        if given(assignment.get("project")):
            wanted.add((role, "project", find_project_id(cloud, assignment["project"])))
        elif given(assignment.get("domain")):
            wanted.add((role, "domain", find_domain_id(cloud, assignment["domain"])))
        else:
            raise ProviderError(f"roles[{index}] names neither a project nor a domain")
    return wanted


def granted(cloud: Cloud, who: str, actor_id: str) -> set[Grant]:
    """The direct role assignments of the actor (a ``user``/``group`` id): not those it
    inherits, which a revoke of the direct one would not take away."""
    have = set()
    for found in cloud.conn.identity.role_assignments(**{f"{who}_id": actor_id}):
        scope = found.scope or {}
        if _INHERITED in scope:
            continue
        for kind in ("project", "domain"):
            if kind in scope:
                have.add((str(found.role["id"]), kind, str(scope[kind]["id"])))
    return have


def _assignment(cloud: Cloud, method: str, who: str, actor_id: str, grant: Grant) -> None:
    """One grant (PUT) or revoke (DELETE), in plain REST: openstacksdk's assign and
    unassign calls return False on Keystone's refusal (a 403) instead of raising."""
    role, kind, scope = (quote(part, safe="") for part in grant)
    url = f"/{kind}s/{scope}/{who}s/{quote(actor_id, safe='')}/roles/{role}"
    os_exceptions.raise_from_response(cloud.conn.identity.request(url, method))


def _grant_each(cloud: Cloud, who: str, actor_id: str, grants: set[Grant]) -> None:
    """Grant each of ``grants``; on a failure, take back (best effort) those this call
    granted, so a failed step leaves none of them behind, then raise."""
    done: list[Grant] = []
    try:
        for each in sorted(grants):
            _assignment(cloud, "PUT", who, actor_id, each)
            done.append(each)
    except _CLOUD_ERRORS:
        for each in done:
            with suppress(*_CLOUD_ERRORS):
                _assignment(cloud, "DELETE", who, actor_id, each)
        raise


def grant(cloud: Cloud, who: str, actor_id: str, wanted: set[Grant]) -> set[Grant]:
    """Grant what ``wanted`` lists and the actor lacks (idempotent); what it granted."""
    if not wanted:
        return set()
    missing = wanted - granted(cloud, who, actor_id)
    _grant_each(cloud, who, actor_id, missing)
    return missing


def assign_roles(cloud: Cloud, who: str, actor_id: str, roles: Any) -> None:
    """Grant what the template lists and the actor (``user``/``group``) lacks."""
    grant(cloud, who, actor_id, wanted_roles(cloud, roles))


class RoleAssignment:
    """Heat's OS::Keystone::UserRoleAssignment and GroupRoleAssignment: a link named by
    its ends, the actor and the grants the build made. Its physical id lists only those
    (``<actor id>;<role>:<kind>:<scope>;...``, measured before granting), so a delete
    revokes no grant the actor held before, a human's or another build's (Heat revokes
    every listed role). Keystone keeps no mark on an assignment, so ``find`` can never
    show a grant is the build's: it adopts nothing, and a grant made by a worker that
    died before recording it is left in place rather than risk revoking someone
    else's."""

    def __init__(self, who: str) -> None:
        self.who = who

    def _ends(self, cloud: Cloud, props: Mapping[str, Any]) -> tuple[str, set[Grant]]:
        finder = getattr(cloud.conn.identity, f"find_{self.who}")
        actor = str(cloud._find(finder, self.who, props[self.who]).id)
        return actor, wanted_roles(cloud, props.get("roles"))

    @staticmethod
    def _id(actor: str, grants: set[Grant]) -> str:
        return ";".join([actor, *(":".join(grant) for grant in sorted(grants))])

    @staticmethod
    def _parse(physical_id: str) -> tuple[str, set[Grant]]:
        actor, *grants = str(physical_id).split(";")
        parsed: set[Grant] = set()
        for text in grants:
            role, kind, scope = [*text.split(":", 2), "", ""][:3]
            if not (actor and role and scope and kind in ("project", "domain")):
                raise ProviderError(
                    f"{physical_id!r} is not a role assignment "
                    "(<actor id>;<role id>:project|domain:<scope id>;...)"
                )
            parsed.add((role, kind, scope))
        return actor, parsed

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        actor, wanted = self._ends(cloud, properties)
        return self._id(actor, grant(cloud, self.who, actor, wanted))

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        """Nothing: no grant can be shown to be the build's (see the class)."""
        return []

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        actor, made = self._parse(physical_id)
        with own(self.who, actor):
            getattr(cloud.conn.identity, f"get_{self.who}")(actor)
        if ctx.external_id is None:
            grant(cloud, self.who, actor, made)
        roles = [{"role": r, kind: scope} for r, kind, scope in sorted(made)]
        return Observed(ready=True, attributes={"show": {self.who: actor, "roles": roles}})

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        actor, made = self._parse(physical_id)
        try:
            held = granted(cloud, self.who, actor)
        except os_exceptions.NotFoundException:
            return  # the actor is gone, and its assignments with it
        for each in sorted(made & held):
            with suppress(os_exceptions.NotFoundException):
                _assignment(cloud, "DELETE", self.who, actor, each)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        actor, made = self._parse(physical_id)
        try:
            return not made & granted(cloud, self.who, actor)
        except os_exceptions.NotFoundException:
            return True


HANDLERS: Mapping[str, Handler] = {
    "OS::Keystone::UserRoleAssignment": RoleAssignment("user"),
    "OS::Keystone::GroupRoleAssignment": RoleAssignment("group"),
}
