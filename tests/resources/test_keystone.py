"""Keystone's types as templates declare them: Heat's examples validate, and what Heat
checks (a role assignment names a project or a domain) or Keystone refuses for certain
(a tag with '/', an unknown interface, a project name past 64 characters) is a located
error when the template is validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check

HEAD = "heat_template_version: 2018-08-31\nresources:\n"
CORPUS = Path(__file__).parents[1] / "data" / "heat-templates" / "hot" / "keystone"


def _problems(registry: ResourceTypeRegistry, body: str) -> list[tuple[str, str]]:
    report = check(HEAD + body, registry, {})
    return [(p.pointer, p.message) for p in report.problems]


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.yaml")), ids=lambda p: p.name)
def test_heats_keystone_examples_validate(registry: ResourceTypeRegistry, path: Path) -> None:
    """Without values (parameters unset), as ``cool validate`` checks a template."""
    report = check(path.read_text(), registry)
    assert [p.code for p in report.problems] == []


def test_a_role_assignment_names_a_project_or_a_domain_not_both(
    registry: ResourceTypeRegistry,
) -> None:
    body = """\
  user:
    type: OS::Keystone::User
    properties:
      roles:
        - {role: admin, project: demo}
        - {role: admin, project: demo, domain: default}
        - {role: admin}
  group:
    type: OS::Keystone::Group
    properties:
      roles: [{role: reader}]
"""
    problems = _problems(registry, body)
    assert [pointer for pointer, _ in problems] == [
        "/resources/user/properties/roles/1",
        "/resources/user/properties/roles/2",
        "/resources/group/properties/roles/0",
    ]
    assert "not both" in problems[0][1]
    assert "Either project or domain must be specified for role admin" in problems[1][1]


def test_what_keystone_refuses_for_certain_is_located(registry: ResourceTypeRegistry) -> None:
    body = f"""\
  project:
    type: OS::Keystone::Project
    properties: {{name: {"p" * 65}, tags: [ok, a/b]}}
  endpoint:
    type: OS::Keystone::Endpoint
    properties: {{service: identity, interface: private, url: "http://x"}}
  service:
    type: OS::Keystone::Service
"""
    pointers = [pointer for pointer, _ in _problems(registry, body)]
    assert pointers == [
        "/resources/project/properties/name",
        "/resources/project/properties/tags/1",
        "/resources/endpoint/properties/interface",
        "/resources/service/properties/type",
    ]


def test_an_empty_project_or_domain_in_a_role_assignment_is_located(
    registry: ResourceTypeRegistry,
) -> None:
    """Heat's keystone.project and keystone.domain constraints refuse '': it would grant
    nothing."""
    body = """\
  user:
    type: OS::Keystone::User
    properties:
      roles: [{role: admin, project: ""}, {role: admin, domain: ""}]
  link:
    type: OS::Keystone::GroupRoleAssignment
    properties:
      group: admins
      roles: [{role: admin, project: ""}]
"""
    assert [pointer for pointer, _ in _problems(registry, body)] == [
        "/resources/user/properties/roles/0/project",
        "/resources/user/properties/roles/1/domain",
        "/resources/link/properties/roles/0/project",
    ]


def test_a_region_id_with_a_slash_is_located(registry: ResourceTypeRegistry) -> None:
    """Keystone could not be asked for it again by URL: refused, not made and lost."""
    body = """\
  region:
    type: OS::Keystone::Region
    properties: {id: east/1}
  fine:
    type: OS::Keystone::Region
    properties: {id: "east 1"}
"""
    problems = _problems(registry, body)
    assert [pointer for pointer, _ in problems] == ["/resources/region/properties/id"]
    assert "'/'" in problems[0][1]
