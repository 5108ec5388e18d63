"""The policy rules as pure logic: personas, project scoping, 404 before 403."""

from __future__ import annotations

from pathlib import Path

import pytest
from oslo_config import cfg
from oslo_context.context import RequestContext

from cool.api.auth import implied, parse_users
from cool.api.policy import Authorizer, list_rules, make_enforcer
from cool.errors import BuildNotFoundError, ConfigurationError, PolicyNotAuthorizedError


def _authorizer(policy_file: Path | None = None) -> Authorizer:
    files = []
    if policy_file is not None:
        conf_file = policy_file.with_name("cool.conf")
        conf_file.write_text(f"[oslo_policy]\npolicy_file = {policy_file}\n")
        files.append(str(conf_file))
    conf = cfg.ConfigOpts()
    conf([], project="cool", default_config_files=files)
    return Authorizer(make_enforcer(conf))


def _context(project: str, *roles: str) -> RequestContext:
    return RequestContext(user_id="u", project_id=project, roles=implied(roles))


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        (
            ("reader",),
            {
                "cool:build:get",
                "cool:build:list",
                "cool:build:events",
                "cool:build:resources",
                "cool:build:validate",
                "cool:build:signal",
            },
        ),
        (
            ("member",),
            {
                "cool:build:resources",
                "cool:build:get",
                "cool:build:list",
                "cool:build:events",
                "cool:build:validate",
                "cool:build:create",
                "cool:build:cancel",
                "cool:build:delete",
                "cool:build:signal",
            },
        ),
    ],
)
def test_policy_personas_on_their_own_project(roles: tuple[str, ...], allowed: set[str]) -> None:
    authorizer = _authorizer()
    context = _context("p1", *roles)
    names = {rule.name for rule in list_rules() if rule.name.startswith("cool:")}
    granted = {n for n in names if authorizer.allows(n, context, {"project_id": "p1"})}
    assert granted == allowed


def test_policy_admin_may_do_everything_anywhere() -> None:
    authorizer = _authorizer()
    context = _context("ops", "admin")
    for rule in ("cool:build:list_all_projects", "cool:worker:list"):
        authorizer.require(rule, context)
    authorizer.build("cool:build:delete", context, "someone-else", "B")


def test_policy_another_projects_build_is_not_found_never_forbidden() -> None:
    authorizer = _authorizer()
    with pytest.raises(BuildNotFoundError):
        authorizer.build("cool:build:cancel", _context("p2", "member"), "p1", "B")
    with pytest.raises(PolicyNotAuthorizedError):
        authorizer.build("cool:build:cancel", _context("p1", "reader"), "p1", "B")


def test_policy_file_overrides_a_default(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('"cool:build:delete": "rule:admin"\n')
    authorizer = _authorizer(policy)
    with pytest.raises(PolicyNotAuthorizedError):
        authorizer.build("cool:build:delete", _context("p1", "member"), "p1", "B")


def test_roles_imply_each_other_like_keystones_defaults() -> None:
    assert implied(["admin"]) == ["admin", "member", "reader"]
    assert implied(["member"]) == ["member", "reader"]
    assert implied(["reader", " "]) == ["reader"]


def test_http_basic_user_entries_are_checked() -> None:
    assert parse_users(["alice:p1:member,reader"]) == {"alice": ("p1", ["member", "reader"])}
    for bad in ["alice", "alice:p1", "alice:../x:member", ":p1:member"]:
        with pytest.raises(ConfigurationError):
            parse_users([bad])


def test_policy_decisions_are_remembered_for_their_ttl(tmp_path: Path) -> None:
    now = [100.0]
    policy = tmp_path / "policy.yaml"
    policy.write_text("")
    conf_file = tmp_path / "cool.conf"
    conf_file.write_text(f"[oslo_policy]\npolicy_file = {policy}\n")
    conf = cfg.ConfigOpts()
    conf([], project="cool", default_config_files=[str(conf_file)])
    authorizer = Authorizer(make_enforcer(conf), cache_ttl_s=5, clock=lambda: now[0])
    member = _context("p1", "member")
    target = {"project_id": "p1"}
    assert authorizer.allows("cool:build:delete", member, target)
    policy.write_text('"cool:build:delete": "rule:admin"\n')
    now[0] += 1
    assert authorizer.allows("cool:build:delete", member, target)  # remembered
    assert not authorizer.allows("cool:build:delete", _context("p2", "member"), target)
    now[0] += 5
    assert not authorizer.allows("cool:build:delete", member, target)  # the new rule
