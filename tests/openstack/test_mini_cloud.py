"""The mini cloud itself: what cool's openstack provider will rely on, as a member sees it.

Real services throughout (``harness.mini_cloud.cloud``); every wait is on a
condition with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import openstack.connection
import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from harness.mini_cloud.cloud import MiniCloud
from harness.mini_cloud.errors import MiniCloudTimeoutError
from tests.openstack_fixture import Member, processes_under

pytestmark = [pytest.mark.openstack, pytest.mark.slow]

T = TypeVar("T")
_WAIT_S = 120.0


def eventually(what: str, probe: Callable[[], T | None], timeout_s: float = _WAIT_S) -> T:
    """``probe()`` once it returns something truthy; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def conn(mini_cloud: MiniCloud, member: Member) -> Iterator[openstack.connection.Connection]:
    connection = mini_cloud.connect(member.user_name, member.password, member.project_name)
    try:
        yield connection
    finally:
        connection.close()


def _counts(conn: openstack.connection.Connection) -> dict[str, int]:
    project = conn.current_project_id
    return {
        "servers": len(list(conn.compute.servers())),
        "volumes": len(list(conn.block_storage.volumes())),
        "networks": len(list(conn.network.networks(project_id=project))),
        "subnets": len(list(conn.network.subnets(project_id=project))),
        "ports": len(list(conn.network.ports(project_id=project))),
        "routers": len(list(conn.network.routers(project_id=project))),
        "floating_ips": len(list(conn.network.ips(project_id=project))),
    }


def _floating_addresses(conn: openstack.connection.Connection, server_id: str) -> list[str]:
    server = conn.compute.get_server(server_id)
    return [
        address["addr"]
        for addresses in (server.addresses or {}).values()
        for address in addresses
        if address.get("OS-EXT-IPS:type") == "floating"
    ]


def test_mini_cloud_trust_scoped_token_works_against_every_service(
    mini_cloud: MiniCloud, member: Member
) -> None:
    """What cool's worker will do: act for a member, later, through a trust."""
    admin = mini_cloud.admin()
    trustee_name, trustee_password = f"cool-{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    trustee_id = admin.create_service_user(trustee_name, trustee_password)
    member_token = admin.token(member.user_name, member.password, member.project_id)
    trust = {
        "trust": {
            "trustor_user_id": member.user_id,
            "trustee_user_id": trustee_id,
            "project_id": member.project_id,
            "impersonation": True,
            "roles": [{"name": "member"}],
        }
    }
    response = admin.session().post(
        f"{mini_cloud.auth_url}/OS-TRUST/trusts",
        json=trust,
        headers={"X-Auth-Token": member_token},
        authenticated=False,
    )
    trust_id = response.json()["trust"]["id"]
    auth = v3.Password(
        auth_url=mini_cloud.auth_url,
        username=trustee_name,
        password=trustee_password,
        user_domain_id="default",
        trust_id=trust_id,
    )
    session = ks_session.Session(auth=auth)
    try:
        assert session.get_project_id() == member.project_id
        assert session.get_user_id() == member.user_id  # impersonation
        for service_type, path in (
            ("compute", "/servers"),
            ("network", "/v2.0/networks"),
            ("block-storage", "/volumes"),
            ("image", "/v2/images"),
            ("placement", "/"),
        ):
            reply = session.get(
                path,
                endpoint_filter={
                    "service_type": service_type,
                    "interface": "public",
                    "region_name": mini_cloud.region_name,
                },
                raise_exc=False,
            )
            assert reply.status_code == 200, (service_type, reply.status_code, reply.text)
        trust_conn = openstack.connection.Connection(
            session=session, region_name=mini_cloud.region_name
        )
        network = trust_conn.network.create_network(name="through-a-trust")
        assert network.project_id == member.project_id
        trust_conn.network.delete_network(network)
    finally:
        session.session.close()


def test_mini_cloud_stop_after_a_failed_start_leaves_no_process(tmp_path: Path) -> None:
    cloud = MiniCloud(tmp_path / "cloud")
    with pytest.raises(MiniCloudTimeoutError):
        cloud.start(timeout_s=8.0)  # far too short: it fails half way, processes up
    assert cloud.pids == []  # start() stopped them itself
    assert processes_under(tmp_path) == []
    cloud.stop()  # idempotent
