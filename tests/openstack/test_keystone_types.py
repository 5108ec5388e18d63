"""Keystone's types against the mini cloud's real Keystone: what an admin's step creates,
how a step finds it again by its mark (and only its own), a member's 403, a password
never shown, and that deletes leave Keystone as it was."""

from __future__ import annotations

from typing import Any

import pytest

from cool.clouds.base import ProviderError, ResourceExistsError
from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.helpers import Project, made, new_build_id, unique, until_deleted

pytestmark = pytest.mark.openstack

PROJECT, USER, GROUP = "OS::Keystone::Project", "OS::Keystone::User", "OS::Keystone::Group"
ROLE, DOMAIN, REGION = "OS::Keystone::Role", "OS::Keystone::Domain", "OS::Keystone::Region"
SERVICE, ENDPOINT = "OS::Keystone::Service", "OS::Keystone::Endpoint"
USER_ROLES, GROUP_ROLES = "OS::Keystone::UserRoleAssignment", "OS::Keystone::GroupRoleAssignment"
SECRET = "correct-horse-battery-staple"


@pytest.fixture
def member(mini_cloud: MiniCloud) -> Project:
    return Project.create(mini_cloud)


@pytest.fixture
def admin(mini_cloud: MiniCloud) -> Project:
    """A project whose user has Keystone's admin role (Keystone's policy wants it)."""
    return Project.create(mini_cloud, "adm", admin=True)


def _keystone(admin: Project) -> dict[str, set[str]]:
    """Everything of every kind the types make, by id: what "as it was" compares."""
    identity = admin.conn.identity
    return {
        kind: {str(r.id) for r in getattr(identity, kind)()}
        for kind in ("projects", "users", "groups", "roles", "domains", "regions", "services")
    } | {"endpoints": {str(e.id) for e in identity.endpoints()}}


def _delete_all(admin: Project, steps: list[tuple[Any, str]]) -> None:
    provider = admin.provider()
    for ctx, physical_id in reversed(steps):
        provider.delete(ctx, physical_id)
        until_deleted(provider, ctx, physical_id)
        provider.delete(ctx, physical_id)  # again: nothing to do, no error


def test_an_admins_steps_make_every_keystone_type_and_delete_leaves_keystone_as_it_was(
    admin: Project,
) -> None:
    before = _keystone(admin)
    provider, build, identity = admin.provider(), new_build_id(), admin.conn.identity
    steps: list[tuple[Any, str]] = []

    def step(name: str, kind: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ctx = admin.ctx(name, kind, props, build_id=build)
        physical_id, observed = made(provider, ctx)
        assert observed.ready, observed
        assert [f.physical_id for f in provider.find(ctx)] == [physical_id]
        steps.append((ctx, physical_id))
        return physical_id, dict(observed.attributes)

    domain, _ = step("domain", DOMAIN, {"name": unique("dom"), "description": "dept"})
    assert identity.get_domain(domain).description == (
        f"dept (cool-build={build},cool-resource=domain)"
    )
    project, attributes = step(
        "project", PROJECT, {"name": unique("prj"), "domain": domain, "tags": ["web"]}
    )
    assert attributes["domain_id"] == domain
    assert attributes["enabled"] is True
    assert attributes["is_domain"] is False
    assert identity.get_project(project).tags == [
        "web",
        f"cool-build={build}",
        "cool-resource=project",
    ]
    role, _ = step("role", ROLE, {"name": unique("role")})
    group_roles = [{"role": role, "domain": domain}, {"role": role, "project": project}]
    group, _ = step("group", GROUP, {"name": unique("grp"), "roles": group_roles})
    user_props = {
        "name": unique("usr"),
        "domain": "default",
        "email": "a@example.org",
        "password": SECRET,
        "default_project": project,
        "groups": [group],
        "roles": [{"role": role, "project": project}],
    }
    user, attributes = step("user", USER, user_props)
    assert attributes["default_project_id"] == project
    assert attributes["domain_id"] == "default"
    assert SECRET not in repr(attributes)
    assert [g.id for g in identity.user_groups(user)] == [group]
    granted = {
        (a.role["id"], next(iter(a.scope)), next(iter(a.scope.values()))["id"])
        for who in ({"user_id": user}, {"group_id": group})
        for a in identity.role_assignments(**who)
    }
    assert granted == {(role, "domain", domain), (role, "project", project)}
    parent, _ = step("parent", REGION, {"id": unique("east") + " 1", "description": "east"})
    assert "%20" in parent  # the id is URL-encoded, as Heat does
    child, _ = step("child", REGION, {"parent_region": parent})
    assert identity.get_region(child).parent_region_id == parent
    service, _ = step("service", SERVICE, {"type": unique("metering")})
    _, attributes = step(
        "endpoint",
        ENDPOINT,
        {"service": service, "interface": "public", "url": "http://m.example", "region": child},
    )
    assert attributes["show"]["url"] == "http://m.example"
    assert attributes["show"]["region_id"] == child

    _delete_all(admin, steps)
    assert _keystone(admin) == before


def test_a_step_adopts_only_what_carries_its_mark(admin: Project) -> None:
    """A look-alike someone made (same name, type, URL) is never found: neither adopted
    nor deleted; a name Keystone keeps unique, held by someone else, fails the create."""
    provider, identity = admin.provider(), admin.conn.identity
    build = new_build_id()
    kind = unique("metering")
    theirs = identity.create_service(type=kind, name="meter", description="mine")
    props = {"type": kind, "name": "meter"}
    ours = admin.ctx("service", SERVICE, props, build_id=build)
    service, _ = made(provider, ours)
    assert [f.physical_id for f in provider.find(ours)] == [service]
    assert provider.find(admin.ctx("service", SERVICE, props)) == []  # another build's
    assert provider.find(admin.ctx("other", SERVICE, props, build_id=build)) == []
    endpoint_props = {"service": service, "interface": "admin", "url": "http://m"}
    look_alike = identity.create_endpoint(service_id=service, interface="admin", url="http://m")
    endpoint_ctx = admin.ctx("endpoint", ENDPOINT, endpoint_props, build_id=build)
    assert provider.find(endpoint_ctx) == []

    name = unique("taken")
    identity.create_role(name=name)
    with pytest.raises(ResourceExistsError, match=name):
        provider.create(admin.ctx("role", ROLE, {"name": name}), {"name": name})
    project_props = {"name": unique("prj")}
    project_ctx = admin.ctx("project", PROJECT, project_props, build_id=build)
    project, _ = made(provider, project_ctx)
    again = admin.ctx("project", PROJECT, project_props, build_id=build)
    with pytest.raises(ResourceExistsError):  # a create whose reply was lost: found
        provider.create(again, project_props)
    assert [f.physical_id for f in provider.find(again)] == [project]

    provider.delete(project_ctx, project)
    identity.delete_endpoint(look_alike)
    provider.delete(ours, service)
    until_deleted(provider, ours, service)
    assert identity.get_service(theirs.id).description == "mine"
    identity.delete_service(theirs)
    identity.delete_role(identity.find_role(name))


def test_role_assignments_of_existing_users_and_groups_are_granted_and_revoked(
    admin: Project,
) -> None:
    """A link named by its ends (the actor and the grants the build made): the delete
    revokes those, and is done once none is held."""
    provider, identity = admin.provider(), admin.conn.identity
    user = identity.create_user(name=unique("usr"), password="x", domain_id="default")
    group = identity.create_group(name=unique("grp"), domain_id="default")
    reader = identity.find_role("reader")
    for kind, actor, ref in ((USER_ROLES, "user", user.name), (GROUP_ROLES, "group", group.id)):
        actor_id = user.id if actor == "user" else group.id
        roles = [
            {"role": "reader", "project": admin.project_name},
            {"role": reader.id, "domain": "default"},
        ]
        props = {actor: ref, "roles": roles}
        ctx = admin.ctx("roles", kind, props)
        link, observed = made(provider, ctx)
        assert link == (
            f"{actor_id};{reader.id}:domain:default;{reader.id}:project:{admin.project_id}"
        )
        assert observed.attributes["show"][actor] == actor_id
        held = {
            (a.role["id"], next(iter(a.scope)))
            for a in identity.role_assignments(**{f"{actor}_id": actor_id})
        }
        assert held == {(reader.id, "domain"), (reader.id, "project")}
        assert provider.find(ctx) == []  # Keystone keeps no mark: nothing shows it ours
        provider.delete(ctx, link)
        until_deleted(provider, ctx, link)
        assert list(identity.role_assignments(**{f"{actor}_id": actor_id})) == []
        assert provider.find(ctx) == []
        provider.delete(ctx, link)  # again: nothing to revoke, no error
    identity.delete_user(user)
    identity.delete_group(group)
    assert provider.is_deleted(ctx, link)  # the actor gone: so are its assignments


def test_a_domain_is_disabled_then_deleted(admin: Project) -> None:
    provider = admin.provider()
    ctx = admin.ctx("domain", DOMAIN, {"enabled": True})
    domain, _ = made(provider, ctx)
    assert admin.conn.identity.get_domain(domain).is_enabled
    provider.delete(ctx, domain)
    until_deleted(provider, ctx, domain)
    provider.delete(ctx, domain)


@pytest.mark.parametrize(
    ("kind", "props"),
    [
        (PROJECT, {}),
        (USER, {"password": SECRET}),
        (GROUP, {}),
        (ROLE, {}),
        (DOMAIN, {}),
        (REGION, {}),
        (SERVICE, {"type": "metering"}),
        (ENDPOINT, {"service": "identity", "interface": "public", "url": "http://x"}),
        (USER_ROLES, {"user": "admin", "roles": [{"role": "reader", "domain": "default"}]}),
    ],
)
def test_a_members_keystone_step_fails_with_keystones_403(
    member: Project, kind: str, props: dict[str, Any]
) -> None:
    """The create is Keystone's 403; a look-up, which a rollback makes before it deletes
    what the create may have made, finds nothing (a member may not list what it could
    not make) rather than failing the rollback too."""
    provider, ctx = member.provider(), member.ctx("thing", kind, props)
    with pytest.raises(ProviderError, match=r"HTTP 403") as caught:
        provider.create(ctx, props)
    assert not caught.value.retryable
    assert f"create thing ({kind})" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert provider.find(ctx) == []


def test_a_users_password_is_masked_in_a_refusal_and_never_chained(admin: Project) -> None:
    """Keystone quotes an invalid value in its 400: a password that is also the (too long)
    name is masked; nor does the error chain to the request that held it."""
    provider = admin.provider()
    long_name = "p" * 300
    ctx = admin.ctx("user", USER)
    with pytest.raises(ProviderError, match=r"HTTP 400") as caught:
        provider.create(ctx, {"name": long_name, "password": long_name})
    assert long_name not in str(caught.value)
    assert "***" in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
    name = unique("usr")
    admin.conn.identity.create_user(name=name, password="x", domain_id="default")
    with pytest.raises(ResourceExistsError) as taken:
        provider.create(admin.ctx("user", USER), {"name": name, "password": SECRET})
    assert SECRET not in str(taken.value)
    assert taken.value.__cause__ is None
    assert taken.value.__context__ is None
    admin.conn.identity.delete_user(admin.conn.identity.find_user(name))


def _direct(admin: Project, user_id: str) -> set[tuple[str, str, str]]:
    """The user's direct (not inherited) assignments: (role id, kind, scope id)."""
    return {
        (str(a.role["id"]), kind, str(a.scope[kind]["id"]))
        for a in admin.conn.identity.role_assignments(user_id=user_id)
        for kind in ("project", "domain")
        if kind in a.scope and "OS-INHERIT:inherited_to" not in a.scope
    }


def test_a_role_assignment_that_fails_half_way_revokes_what_it_granted(admin: Project) -> None:
    """The domain grant succeeds, the project grant is Keystone's 403 (a domain's role on
    another domain's project): the create takes back the first before it fails, as
    rollback, finding no physical id, could not."""
    identity = admin.conn.identity
    user = identity.create_user(name=unique("usr"), password="x", domain_id="default")
    domain = identity.create_domain(name=unique("dom"))
    role = identity.create_role(name=unique("role"), domain_id=domain.id)
    roles = [{"role": role.id, "domain": domain.id}, {"role": role.id, "project": admin.project_id}]
    props = {"user": user.id, "roles": roles}
    ctx = admin.ctx("roles", USER_ROLES, props)
    provider = admin.provider()
    with pytest.raises(ProviderError, match=r"HTTP 403"):
        provider.create(ctx, props)
    assert _direct(admin, user.id) == set()
    assert provider.find(ctx) == []
    identity.delete_user(user)
    identity.delete_role(role)
    identity.update_domain(domain, is_enabled=False)
    identity.delete_domain(domain)


def test_a_role_assignment_never_revokes_a_grant_it_did_not_make(admin: Project) -> None:
    """A grant the user held before the build (a human's) stays when the build's
    assignment is deleted, and when a step that recorded nothing is rolled back (a
    crash before its grant, then a cancel: ``find`` adopts no one else's grant)."""
    identity, provider = admin.conn.identity, admin.provider()
    user = identity.create_user(name=unique("usr"), password="x", domain_id="default")
    reader = identity.find_role("reader")
    identity.assign_project_role_to_user(admin.project_id, user.id, reader.id)
    human = (reader.id, "project", admin.project_id)
    roles = [
        {"role": "reader", "project": admin.project_id},
        {"role": "reader", "domain": "default"},
    ]
    props = {"user": user.id, "roles": roles}
    ctx = admin.ctx("roles", USER_ROLES, props)
    link, _ = made(provider, ctx)
    assert link == f"{user.id};{reader.id}:domain:default"
    assert _direct(admin, user.id) == {human, (reader.id, "domain", "default")}
    provider.delete(ctx, link)
    until_deleted(provider, ctx, link)
    assert _direct(admin, user.id) == {human}

    held = {"user": user.id, "roles": roles[:1]}  # all held already: nothing of the build's
    crashed = admin.ctx("roles", USER_ROLES, held)
    for found in provider.find(crashed):
        provider.delete(crashed, found.physical_id)
    assert _direct(admin, user.id) == {human}
    identity.delete_user(user)


def test_an_inherited_assignment_is_not_a_direct_one(admin: Project) -> None:
    """A role inherited to a domain's projects does not stand for the direct grant on
    the domain the template asks for; the delete leaves the inherited one."""
    identity, provider = admin.conn.identity, admin.provider()
    user = identity.create_user(name=unique("usr"), password="x", domain_id="default")
    reader = identity.find_role("reader")
    identity.assign_domain_role_to_user("default", user.id, reader.id, inherited=True)
    props = {"user": user.id, "roles": [{"role": "reader", "domain": "default"}]}
    ctx = admin.ctx("roles", USER_ROLES, props)
    link, _ = made(provider, ctx)
    assert _direct(admin, user.id) == {(reader.id, "domain", "default")}
    provider.delete(ctx, link)
    until_deleted(provider, ctx, link)
    assert _direct(admin, user.id) == set()
    inherited = list(identity.role_assignments(user_id=user.id))
    assert [a.scope.get("OS-INHERIT:inherited_to") for a in inherited] == ["projects"]
    identity.delete_user(user)


@pytest.mark.parametrize(
    ("roles", "why"),
    [
        ({"role": "reader", "domain": "default"}, "a list"),
        ([{"domain": "default"}], "names no role"),
        (["reader"], "a map"),
        ([{"role": "reader", "project": ""}], "neither a project nor a domain"),
    ],
)
def test_role_assignments_of_a_wrong_shape_at_run_time_fail_with_a_note(
    admin: Project, roles: Any, why: str
) -> None:
    """Values known only at run time (``get_attr``) that Heat's schema would refuse: a
    clear ProviderError, never a KeyError or TypeError out of the provider."""
    provider, identity = admin.provider(), admin.conn.identity
    props = {"user": admin.user_id, "roles": roles}
    ctx = admin.ctx("roles", USER_ROLES, props)
    with pytest.raises(ProviderError, match=why):
        provider.create(ctx, props)
    assert provider.find(ctx) == []
    group = identity.create_group(name=unique("grp"), domain_id="default")
    with pytest.raises(ProviderError, match=why):  # a group's own roles: the same check
        provider.observe(admin.ctx("group", GROUP, {"roles": roles}), group.id)
    assert list(identity.role_assignments(group_id=group.id)) == []
    identity.delete_group(group)


def test_an_external_id_that_is_no_assignment_is_a_provider_error(admin: Project) -> None:
    provider = admin.provider()
    ctx = admin.ctx("roles", USER_ROLES, {"user": admin.user_id, "roles": []})
    for physical_id in ("a;b", "a;b:c"):
        with pytest.raises(ProviderError, match="not a role assignment"):
            provider.observe(ctx, physical_id)
