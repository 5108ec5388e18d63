"""A project of its own whose user holds ``admin``: for what Neutron's default policy
keeps to administrators (QoS policies and rules)."""

from __future__ import annotations

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from openstack.connection import Connection

from harness.keystone.admin import DEFAULT_DOMAIN
from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.helpers import PASSWORD, Project, unique


def admin_project(cloud: MiniCloud) -> Project:
    """The project, its admin user (password :data:`PASSWORD`) and a connection as them
    (the caller closes ``conn``)."""
    project_name, user_name = unique("qos"), unique("qos-admin")
    keystone = cloud.admin()
    project_id = keystone.create_project(project_name)
    user_id = keystone.create_user(user_name, PASSWORD, project_id, ["admin"])
    auth = v3.Password(
        auth_url=cloud.auth_url,
        username=user_name,
        password=PASSWORD,
        user_domain_id=DEFAULT_DOMAIN,
        project_name=project_name,
        project_domain_id=DEFAULT_DOMAIN,
    )
    session = ks_session.Session(auth=auth)
    conn = Connection(session=session, region_name=cloud.region_name, interface="public")
    return Project(cloud, project_name, user_name, project_id, user_id, session, conn)
