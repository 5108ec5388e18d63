"""Shared by the tests of the openstack provider against the mini cloud
(:mod:`harness.mini_cloud.cloud`): a project of one's own, and the provider acting in it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import openstack
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from cool.clouds.base import Observed, StepContext
from cool.clouds.openstack.limits import CallLimiter
from cool.clouds.openstack.provider import OpenStackProvider
from cool.store.layout import new_build_id
from harness.keystone.admin import DEFAULT_DOMAIN
from harness.mini_cloud.cloud import MiniCloud, project_counts
from tests.zk import assert_eventually

PASSWORD = "member-secret"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def settles_to(
    conn: openstack.connection.Connection,
    project_id: str,
    counts: Mapping[str, int],
    *,
    timeout_s: float = 60,
) -> None:
    """The project comes to hold ``counts`` (Nova forgets a DELETED server a moment
    after it says so)."""
    assert_eventually(
        lambda: project_counts(conn, project_id) == counts,
        timeout_s=timeout_s,
        interval_s=0.5,
        message=f"the project holds {counts}",
    )


@dataclass
class Project:
    """A project of its own with a member in it, openstacksdk as that member, and the
    provider acting as that member."""

    cloud: MiniCloud
    project_name: str
    user_name: str
    project_id: str
    user_id: str
    session: ks_session.Session
    conn: openstack.connection.Connection
    builds: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, cloud: MiniCloud, prefix: str = "p", *, admin: bool = False) -> Project:
        """``admin``: the user has Keystone's admin role instead (Nova's admin-only calls)."""
        project_name, user_name = unique(prefix), unique("u")
        if admin:
            keystone = cloud.admin()
            project_id = keystone.create_project(project_name)
            user_id = keystone.create_user(user_name, PASSWORD, project_id, ["admin"])
        else:
            project_id, user_id = cloud.create_member(project_name, user_name, PASSWORD)
        auth = v3.Password(
            auth_url=cloud.auth_url,
            username=user_name,
            password=PASSWORD,
            user_domain_id=DEFAULT_DOMAIN,
            project_name=project_name,
            project_domain_id=DEFAULT_DOMAIN,
        )
        session = ks_session.Session(auth=auth)
        conn = openstack.connection.Connection(
            session=session, region_name=cloud.region_name, interface="public"
        )
        return cls(cloud, project_name, user_name, project_id, user_id, session, conn)

    def provider(
        self, limiter: CallLimiter | None = None, *, neutron_tags: bool = False
    ) -> OpenStackProvider:
        return OpenStackProvider(
            lambda _trust_id: self.session,
            region_name=self.cloud.region_name,
            limiter=limiter,
            neutron_tags=neutron_tags,
        )

    def ctx(
        self,
        resource_name: str,
        resource_type: str,
        properties: Mapping[str, Any] | None = None,
        *,
        build_id: str | None = None,
    ) -> StepContext:
        return StepContext(
            build_id=build_id or new_build_id(),
            resource_name=resource_name,
            resource_type=resource_type,
            project_id=self.project_id,
            properties=dict(properties or {}),
        )

    def settles_to(self, counts: Mapping[str, int], *, timeout_s: float = 60) -> None:
        settles_to(self.conn, self.project_id, counts, timeout_s=timeout_s)

    def counts(self) -> dict[str, int]:
        return project_counts(self.conn, self.project_id)


def until_ready(
    provider: OpenStackProvider, ctx: StepContext, physical_id: str, *, timeout_s: float = 60
) -> Observed:
    """Poll as the worker does, until the resource is ready or failed."""
    seen: list[Observed] = []

    def settled() -> bool:
        observed = provider.observe(ctx, physical_id)
        seen.append(observed)
        return observed.ready or observed.failed is not None

    assert_eventually(
        settled, timeout_s=timeout_s, interval_s=0.3, message=f"{ctx.resource_name} settles"
    )
    return seen[-1]


def until_deleted(
    provider: OpenStackProvider, ctx: StepContext, physical_id: str, *, timeout_s: float = 60
) -> None:
    assert_eventually(
        lambda: provider.is_deleted(ctx, physical_id),
        timeout_s=timeout_s,
        interval_s=0.3,
        message=f"{ctx.resource_name} deleted",
    )


def made(
    provider: OpenStackProvider, ctx: StepContext, properties: Mapping[str, Any] | None = None
) -> tuple[str, Observed]:
    """Create and wait, as one step does; the ctx carries the properties."""
    props = dict(properties if properties is not None else ctx.properties)
    physical_id = provider.create(ctx, props)
    observed = until_ready(provider, ctx, physical_id)
    return physical_id, observed
