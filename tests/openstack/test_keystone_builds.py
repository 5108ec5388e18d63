"""Keystone's types on the mini cloud, end to end (cool-api, a trust, cool-worker
processes on the openstack provider): an admin's build of every one, Heat's
keystone.yaml example with a domain, regions, a service and its endpoints, under a
worker SIGKILLed after every cloud call, makes one of each through the admin's trust
and its delete leaves Keystone as it was; a member's build fails with Keystone's 403
in the note. The user's password is in no attribute, output, note or event."""

from __future__ import annotations

import json

import pytest

from tests.openstack.builds import built_through_crashes, delete_completes, fails_and_rolls_back
from tests.openstack.cool_on_cloud import Client, CoolOnCloud
from tests.openstack.helpers import Project, unique

pytestmark = pytest.mark.openstack

SECRET = "Build-Secret-0451"

# Heat's hot/keystone/keystone.yaml (a role, a project, a group and a user with their
# role assignments), names made unique, with a domain, two regions, a service and an
# endpoint beside it, and one more role of the group on the domain.
EVERY_TYPE = """
heat_template_version: 2021-04-16
resources:
  role: {type: OS::Keystone::Role, properties: {name: %(p)s-role}}
  project:
    type: OS::Keystone::Project
    properties: {name: %(p)s-project, domain: default, description: Test project}
  group:
    type: OS::Keystone::Group
    properties:
      name: %(p)s-group
      domain: default
      roles:
        - {role: {get_resource: role}, domain: default}
        - {role: {get_resource: role}, project: {get_resource: project}}
  user:
    type: OS::Keystone::User
    properties:
      name: %(p)s-user
      email: abc@xyz.com
      password: %(secret)s
      default_project: {get_resource: project}
      groups: [{get_resource: group}]
      roles: [{role: {get_resource: role}, project: {get_resource: project}}]
  domain: {type: OS::Keystone::Domain, properties: {name: %(p)s-domain}}
  more_roles:
    type: OS::Keystone::GroupRoleAssignment
    properties:
      group: {get_resource: group}
      roles: [{role: {get_resource: role}, domain: {get_resource: domain}}]
  parent: {type: OS::Keystone::Region, properties: {id: %(p)s-east}}
  child:
    type: OS::Keystone::Region
    properties: {parent_region: {get_resource: parent}, description: child}
  service: {type: OS::Keystone::Service, properties: {type: %(p)s-metering}}
  endpoint:
    type: OS::Keystone::Endpoint
    properties:
      service: {get_resource: service}
      region: {get_resource: child}
      interface: public
      url: http://metering.example
outputs:
  user: {value: {get_attr: [user, show]}}
  project_domain: {value: {get_attr: [project, domain_id]}}
"""

ONE_ROLE = """
heat_template_version: 2021-04-16
resources:
  role: {type: OS::Keystone::Role, properties: {name: %s}}
"""


def _keystone(admin: Project) -> dict[str, set[str]]:
    identity = admin.conn.identity
    kinds = ("projects", "users", "groups", "roles", "domains", "regions", "services")
    return {kind: {str(r.id) for r in getattr(identity, kind)()} for kind in kinds} | {
        "endpoints": {str(e.id) for e in identity.endpoints()}
    }


def test_every_keystone_type_in_one_build_survives_a_crash_after_every_cloud_call(
    cool: CoolOnCloud, admin: Project
) -> None:
    before = _keystone(admin)
    client = Client.of(cool, admin)
    template = EVERY_TYPE % {"p": unique("ks"), "secret": SECRET}
    build, resources = built_through_crashes(cool, client, template)
    ids = {name: r["physical_id"] for name, r in resources.items()}

    after = _keystone(admin)
    assert {kind: len(after[kind] - before[kind]) for kind in after} == {
        "projects": 1,
        "users": 1,
        "groups": 1,
        "roles": 1,
        "domains": 1,
        "regions": 2,
        "services": 1,
        "endpoints": 1,
    }
    identity = admin.conn.identity
    assert [g.id for g in identity.user_groups(ids["user"])] == [ids["group"]]
    assert len(list(identity.role_assignments(user_id=ids["user"]))) == 1
    assert len(list(identity.role_assignments(group_id=ids["group"]))) == 3  # more_roles
    assert identity.get_region(ids["child"]).parent_region_id == ids["parent"]
    assert build["outputs"]["project_domain"]["value"] == "default"
    assert build["outputs"]["user"]["value"]["default_project_id"] == ids["project"]
    events = client.http.get(f"{client.url}/v1/builds/{build['id']}/events", timeout=30)
    assert events.status_code == 200
    said = json.dumps([build, resources, events.json()])
    assert SECRET not in said

    delete_completes(cool, client, build["id"])
    assert _keystone(admin) == before


def test_a_members_keystone_build_fails_with_keystones_403(
    cool: CoolOnCloud, project: Project
) -> None:
    client = Client.of(cool, project)
    template = ONE_ROLE % unique("role")
    error = fails_and_rolls_back(cool, client, template, "role", "OS::Keystone::Role")
    assert "(HTTP 403)" in error
    assert "identity:create_role" in error
